"""Words the console shows from data (roles, directions, lane commands, audit kinds), listed here
so that Babel's extraction puts them in the catalogues; the templates translate them as they come."""


def _(message: str) -> str:
    return message


VOCABULARY = (
    _("admin"), _("operator"), _("integrator"), _("enforcement"),
    _("ENTRY"), _("EXIT"), _("BOTH"),
    _("OPEN"), _("CLOSE"), _("HOLD"), _("RELEASE"),
    _("QUERY"), _("CHANGE"), _("SYSTEM"),
    _("CASH"), _("CARD"), _("EWALLET"), _("VOUCHER"), _("PERMIT"),
    _("car"), _("motorcycle"), _("van"), _("truck"), _("bus"),
    _("daily"), _("weekly"), _("monthly"), _("custom"),
    _("ISSUED"), _("USED"), _("LOST"),
    _("level"), _("area"),
)
