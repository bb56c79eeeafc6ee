"""The web transport: the Twisted site (body limits, health, the SOAP endpoints' resources)."""
