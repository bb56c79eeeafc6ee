"""Receipt printers: ESC/POS documents, sent raw to a network printer's port 9100. Knows nothing of
the gateway (an import-linter contract)."""
