"""The contract's XML namespace: every element parkgate publishes is in it."""

NS = "urn:parkgate:v1"
