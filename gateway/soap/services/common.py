"""What every service shares: the operation decorator, Ping, and translations used by several."""

from spyne import DateTime, ServiceBase, rpc

from ...contract import documents
from .. import faults as f
from .. import types as t

ALL_ROLES = ("admin", "operator", "integrator", "enforcement")


def operation(*params, roles, returns=None, names=None, throws=()):
    """spyne's ``@rpc`` with the roles the operation admits and the faults it declares."""
    kwargs = dict(_returns=returns, _throws=f.COMMON + list(throws), _udd={"roles": frozenset(roles)})
    if names:
        kwargs["_out_variable_names" if isinstance(names, tuple) else "_out_variable_name"] = names
    return rpc(*params, **kwargs)


def use_cases(ctx):
    return ctx.app.use_cases


def caller(ctx):
    return ctx.udc.username


def role(ctx):
    return ctx.udc.role


def printout(p):
    """A :class:`gateway.app.tickets.Printout` as the Printout answer."""
    return t.Printout(FileName=p.file_name, MediaType=p.media_type, Content=[p.content])


class Health(ServiceBase):
    @operation(roles=ALL_ROLES, returns=t.req(DateTime), names="ServerTime")
    def Ping(ctx):
        """No side effects: proves the service and the credentials work."""
        return use_cases(ctx).clock()


#: What a decided lane event answers (SubmitEvent, ResolveReview).
DECIDED = dict(returns=(t.req(t.ParkingEvent), t.req(t.Decision), t.req(t.ShortText), t.req(t.BarrierAction),
                        t.opt(t.TicketNumber)),
               names=("ParkingEvent", "Decision", "Reason", "Barrier", "TicketNumber"))


def decided(d, ticket_number=None):
    """A :class:`gateway.app.lanes.Decided` as the DECIDED answer (with the ticket an entry issued)."""
    return (d.outcome.event, d.outcome.decision, d.outcome.reason, barrier_action(d.barrier),
            ticket_number or d.outcome.ticket_number)


def barrier_action(action):
    return t.BarrierAction(Result=action.result, Detail=action.detail)


def charges(quote):
    """A session quote's Charges and AmountDue elements."""
    return charges_of(quote.tariff, quote.charge, quote.session.amount_paid, quote.due)


def charges_of(tariff, charge, paid, due):
    return (documents.charges(tariff, charge, paid), documents.money("AmountDue", due, tariff.currency))
