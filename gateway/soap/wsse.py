"""WS-Security: the UsernameToken of a SOAP header (verified by :mod:`gateway.app.auth`)."""

from ..app.auth import PASSWORD_TEXT, UsernameToken

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"


def username_token(header_elements):
    """The token among the SOAP header's children; None when there is none."""
    for elt in header_elements or ():
        if not isinstance(elt.tag, str) or elt.tag != f"{{{WSSE}}}Security":
            continue
        token = elt.find(f"{{{WSSE}}}UsernameToken")
        if token is None:
            return None
        password = token.find(f"{{{WSSE}}}Password")
        return UsernameToken(
            username=_text(token.find(f"{{{WSSE}}}Username")),
            password=_text(password),
            password_type=password.get("Type", PASSWORD_TEXT) if password is not None else None,
            nonce=_text(token.find(f"{{{WSSE}}}Nonce")),
            created=_text(token.find(f"{{{WSU}}}Created")))
    return None


def _text(elt):
    return (elt.text or "").strip() if elt is not None else None
