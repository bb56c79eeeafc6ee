"""The operator console in a browser (``/console``): officers' and admins' pages on the gateway's
own site, calling the same use cases as the SOAP services."""

from twisted.web import resource, util
from twisted.web.wsgi import WSGIResource

from .app import Console

__all__ = ["Console", "console_resource", "home_redirect"]


def console_resource(use_cases, *, facilities, settings, secure, backup_interval_h, trusted_proxies, reactor,
                     threadpool):
    """``/console`` as a Twisted resource: the WSGI application in its own thread pool."""
    console = Console(use_cases=use_cases, facilities=facilities, language=settings.language, secure=secure,
                      backup_interval_h=backup_interval_h, trusted_proxies=trusted_proxies)
    return WSGIResource(reactor, threadpool, console)


def home_redirect() -> resource.Resource:
    """``/``: people who type the gateway's address land on the console."""
    return util.Redirect(b"/console/")
