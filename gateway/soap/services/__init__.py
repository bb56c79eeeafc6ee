"""The published SOAP services, one module each: translations between the contract's types and
the use cases (:mod:`gateway.app`), nothing more.

Each operation names the roles it admits; authentication (WS-Security UsernameToken) runs
before the method body, in :mod:`gateway.soap.application`. Methods run in a request thread,
so the blocking calls into the use cases are fine here.
"""
