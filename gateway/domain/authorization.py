"""Whether a plate may pass a lane now, as a PARCS asks it (no session opened, nothing written).

The answer is the lane decision's (:func:`gateway.domain.decisions.decide`) on the same facts:
one set of rules for a barrier driven here and for a PARCS that drives its own.
"""

from dataclasses import dataclass
from datetime import datetime

from .decisions import OPEN, DecisionRules, LaneFacts, decide
from .facility import Facility
from .permits import Standing
from .vehicle_types import CAR

GRANTED, DECLINED = "GRANTED", "DECLINED"


@dataclass(frozen=True, slots=True)
class PlateAuthorization:
    decision: str                    # GRANTED, DECLINED
    reason: str                      # the lane decision's reason (PERMIT_VALID, PAYMENT_DUE, HOTLISTED...)
    standing: Standing               # the plate's permit standing, with the permit that decided it


def authorize(facts: LaneFacts, facility: Facility, rules: DecisionRules, direction: str,
              when: datetime, vehicle_type: str = CAR) -> PlateAuthorization:
    """GRANTED exactly when a lane event of this plate (a vehicle of ``vehicle_type``), read surely,
    would open the barrier."""
    verdict = decide(facts, facility, rules, "AUTHORIZATION", direction, when, None, vehicle_type)
    return PlateAuthorization(GRANTED if verdict.decision == OPEN else DECLINED, verdict.reason, verdict.standing)
