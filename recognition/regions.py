"""Region rules: which strings can be plates where, position-aware fixing of confusable
characters, and a jurisdiction guess from the text around the plate.

A format is a pattern of ``L`` (letter), ``N`` (digit), ``?`` (either) and ``x`` (a mark between
the groups that is not part of the number: the Czech inspection sticker, often read as 8 or :).
A reading is fitted to every format of every region: a character in a letter position that
reads as a digit is turned into its look-alike letter (0->O, 1->I, 8->B, 5->S, 2->Z, 6->G) and
the other way round, each such fix costing a little confidence. Strings no format admits are
not plates.
"""

import re
from dataclasses import dataclass

TO_LETTER = {"0": "O", "1": "I", "2": "Z", "4": "A", "5": "S", "6": "G", "7": "T", "8": "B"}
TO_DIGIT = {"O": "0", "D": "0", "Q": "0", "U": "0", "I": "1", "L": "1", "T": "1", "Z": "2", "A": "4",
            "S": "5", "G": "6", "B": "8"}
# What a fix costs: O/0 and I/1 are often the same glyph on a plate; the others are real misreads.
CHEAP = {("0", "O"), ("O", "0"), ("1", "I"), ("I", "1")}
CHEAP_FIX, FIX = 0.02, 0.08
GENERIC = 0.03           # a format that admits any mix proves less than a specific one
VANITY = 0.15            # letters only (vanity plates): possible, but so are words on signs
TRIMMED = 0.06           # a stray character at either end (a frame edge, a flag, a bolt)
MAX_COST = 0.12          # more fixes than this: not a plate read wrongly, not a plate
STICKER = 0.04           # a mark between the groups dropped
DIGITS_ONLY = 0.04       # North American plates of digits only exist, but so do fleet numbers
LONG_US = 0.04           # eight characters: a few states allow them, most stop at seven
UNSURE = 0.8             # the ceiling of readings a person should confirm (below the 0.85 default)
RARE_GENERIC_LENGTHS = (5, 8)  # where a plate read in part or with a neighbour's character lands
# North American plates are issued with the digit 0, not the letter O (one glyph on most state
# plates): in a generic format, the O of a reading with digits is read as 0 at no cost. Most
# states issue no I, O or Q in their serials either: a Q is read as 0, and an I next to a digit
# as 1 (an I among letters, "627WWI", is kept), each at the price of a look-alike fix.
US_GLYPHS = {"O": "0"}
US_SERIAL_FIXES = {"Q": "0", "I": "1"}

# Formats by region. North America varies by state: any 5-8 mix with at least one letter and
# one digit, or 6-7 digits. Brazil: old LLLNNNN and Mercosul LLLNLNN. UK: LLNNLLL. Common EU
# formats: German (1-3 letters of the district, 1-2 letters, 2-4 digits; with one digit it is
# too like a word), Czech (NL?NNNN, with or without the sticker between the groups), Italian
# and French (LLNNNLL), Spanish (NNNNLLL), Dutch side codes, Polish, and others.
_GERMAN = sorted({"L" * (a + b) + "N" * c for a in (1, 2, 3) for b in (1, 2) for c in (2, 3, 4)
                  if 5 <= a + b + c <= 8})
REGIONS = {
    "US": ["?????", "??????", "???????", "????????"],
    "BR": ["LLLNNNN", "LLLNLNN"],
    "UK": ["LLNNLLL"],
    "EU": sorted(set(_GERMAN) | {
        "LLNNNN", "LLNNNNN", "LLLNNN", "LLLNNNN", "LNNNNNN", "LLNNLL", "LLNNNLL", "LLNNNNLL", "NNLLLN",
        "NNNNLLL", "NLLLNNN", "LLLNNNL", "LNNNNLL", "LLNLLNNN", "LLLNNLL", "LLLLNNNN", "LLNNNLLL",
        "LLLNNNNL", "NNLLNN", "LNNNLLL", "NL?NNNN", "NL?xNNNN", "LLNNLN", "NNLNNN", "NLLNNN"}),
}

US_STATES = {
    "ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA", "COLORADO": "CO",
    "CONNECTICUT": "CT", "DELAWARE": "DE", "FLORIDA": "FL", "GEORGIA": "GA", "HAWAII": "HI", "IDAHO": "ID",
    "ILLINOIS": "IL", "INDIANA": "IN", "IOWA": "IA", "KANSAS": "KS", "KENTUCKY": "KY", "LOUISIANA": "LA",
    "MAINE": "ME", "MARYLAND": "MD", "MASSACHUSETTS": "MA", "MICHIGAN": "MI", "MINNESOTA": "MN",
    "MISSISSIPPI": "MS", "MISSOURI": "MO", "MONTANA": "MT", "NEBRASKA": "NE", "NEVADA": "NV",
    "NEWHAMPSHIRE": "NH", "NEWJERSEY": "NJ", "NEWMEXICO": "NM", "NEWYORK": "NY", "NORTHCAROLINA": "NC",
    "NORTHDAKOTA": "ND", "OHIO": "OH", "OKLAHOMA": "OK", "OREGON": "OR", "PENNSYLVANIA": "PA",
    "RHODEISLAND": "RI", "SOUTHCAROLINA": "SC", "SOUTHDAKOTA": "SD", "TENNESSEE": "TN", "TEXAS": "TX",
    "UTAH": "UT", "VERMONT": "VT", "VIRGINIA": "VA", "WASHINGTON": "WA", "WESTVIRGINIA": "WV",
    "WISCONSIN": "WI", "WYOMING": "WY", "ONTARIO": "ON", "QUEBEC": "QC", "ALBERTA": "AB",
    "BRITISHCOLUMBIA": "BC", "MANITOBA": "MB", "SASKATCHEWAN": "SK", "NOVASCOTIA": "NS",
}
CANADA = {"ON", "QC", "AB", "BC", "MB", "SK", "NS"}
COUNTRY_WORDS = {"BRASIL": "BRA", "BRAZIL": "BRA", "MERCOSUL": "BRA", "MEXICO": "MEX", "CANADA": "CAN",
                 "USA": "USA"}
# Brazil's states (UF): old plates carry "CITY - UF" above the number.
BR_STATES = {"AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA", "PB", "PR", "PE",
             "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO"}
_CITY_AND_STATE = re.compile(r"^[A-Z][A-Z .']{2,}\s*-\s*([A-Z]{2})$")
# Distinguishing signs on the EU band (Vienna convention codes).
EU_BAND = {"A": "AT", "B": "BE", "BG": "BG", "CH": "CH", "CZ": "CZ", "D": "DE", "DK": "DK", "E": "ES",
           "EST": "EE", "F": "FR", "FIN": "FI", "GB": "GB", "GR": "GR", "H": "HU", "HR": "HR", "I": "IT",
           "IRL": "IE", "L": "LU", "LT": "LT", "LV": "LV", "M": "MT", "NL": "NL", "P": "PT", "PL": "PL",
           "RO": "RO", "S": "SE", "SK": "SK", "SLO": "SI", "UA": "UA", "UK": "GB", "BR": "BR"}


def normalise(text):
    return re.sub(r"[^A-Z0-9]", "", (text or "").upper())


@dataclass(frozen=True)
class Fit:
    text: str
    region: str
    cost: float  # the confidence the fixes cost
    word: bool = False  # letters only: a vanity plate, or a word on a sign or a car
    rare: bool = False  # a length few plates have, where partial and overlong readings land

    @property
    def factor(self):
        return max(0.0, 1.0 - self.cost)

    @property
    def ceiling(self):
        """The most confidence such a reading may claim: a word or a rare length is for a person
        to confirm, however clearly it was read."""
        return UNSURE if self.word or self.rare else 1.0


def fit(text, regions=None):
    """The best way ``text`` can be read as a plate: (Fit) or None if no format admits it.

    Among the formats that admit it, the one needing the cheapest fixes wins, a specific format
    (LLNNNLL) before a generic one (any mix) at equal cost; the text with a stray character
    dropped at either end is tried too, at a cost."""
    text = normalise(text)
    best, best_rank = None, None
    for variant, extra in ((text, 0.0), (text[1:], TRIMMED), (text[:-1], TRIMMED)):
        for region in regions or REGIONS:
            for pattern in REGIONS[region]:
                fitted = _fit_pattern(variant, pattern)
                if fitted is None or (extra and fitted[0].isdigit()):
                    continue  # digits only, and only after dropping one: a date or a number, not a plate
                cost = fitted[1] + extra
                generic = _generic(pattern)
                rank = cost + (GENERIC if generic else 0.0)
                if cost <= MAX_COST and (best is None or rank < best_rank):
                    rare = generic and len(pattern) in RARE_GENERIC_LENGTHS
                    # Every digit made from a letter ("STOR-IT" as STOR11): a word, not a plate.
                    word = not any(c.isdigit() for c in variant)
                    best, best_rank = Fit(fitted[0], region, round(cost, 4), word=word, rare=rare), rank
    if best is None and 5 <= len(text) <= 8 and text.isalpha() and (not regions or "US" in regions):
        best = Fit(text, "US", VANITY, word=True)
    return best


def _generic(pattern):
    """A format that admits any mix (North America's)."""
    return pattern.count("?") == len(pattern)


def _fit_pattern(text, pattern):
    """(fixed text, cost) of ``text`` read as ``pattern``, or None."""
    if len(text) != len(pattern):
        return None
    generic = _generic(pattern)
    has_digit = any(c.isdigit() for c in text)  # else its Os are letters: a word ("STORIT", "LOTOS")
    out, cost = [], 0.0
    for i, (char, kind) in enumerate(zip(text, pattern)):
        fixed = char
        if kind == "x":
            cost += STICKER
            continue
        if generic:
            if has_digit and char in US_SERIAL_FIXES and (char == "Q" or _next_to_digit(text, i)):
                out.append(US_SERIAL_FIXES[char])
                cost += CHEAP_FIX
            else:
                out.append(US_GLYPHS.get(char, char) if has_digit else char)
            continue
        if kind == "L" and char.isdigit():
            fixed = TO_LETTER.get(char)
        elif kind == "N" and char.isalpha():
            fixed = TO_DIGIT.get(char)
        if fixed is None:
            return None
        if fixed != char:
            cost += CHEAP_FIX if (char, fixed) in CHEAP else FIX
        out.append(fixed)
    result = "".join(out)
    if generic:
        if len(result) == 8:
            cost += LONG_US
        if result.isdigit() and len(result) in (6, 7):
            cost += DIGITS_ONLY
        elif not (any(c.isdigit() for c in result) and any(c.isalpha() for c in result)):
            return None
    return result, round(cost, 4)


def _next_to_digit(text, i):
    return any(0 <= j < len(text) and text[j].isdigit() for j in (i - 1, i + 1))


def place_name(text):
    """Is this line a state, province or country name (printed on plates, never the number)?"""
    word = normalise(text)
    return word in COUNTRY_WORDS or any(len(name) >= 4 and name in word for name in US_STATES)


def jurisdiction(lines):
    """(jurisdiction, country, confidence) guessed from the other text read around the plate."""
    for text, score in lines:
        word = normalise(text)
        for name, code in US_STATES.items():
            if len(name) >= 4 and name in word:
                return code, "CAN" if code in CANADA else "USA", round(min(score, 0.99), 2)
    for text, score in lines:
        city = _CITY_AND_STATE.match((text or "").upper().strip())
        if city and city.group(1) in BR_STATES:
            return city.group(1), "BRA", round(min(score, 0.99), 2)
    for text, score in lines:
        if normalise(text) in COUNTRY_WORDS:
            return None, COUNTRY_WORDS[normalise(text)], round(min(score, 0.99), 2)
    for text, score in lines:
        word = normalise(text)
        if word in EU_BAND and len(word) <= 3:
            return None, EU_BAND[word], round(min(score, 0.99) * 0.8, 2)
    return None, None, 0.0
