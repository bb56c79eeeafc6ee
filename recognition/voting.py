"""Character-by-character voting among several readings of one plate (several crops of one
picture, or several frames of one vehicle)."""

from collections import defaultdict


def vote(readings):
    """(text, confidence) from [(text, confidence)]: the length most readings (by weight) agree
    on, then at each position the character with the most weight. The confidence is the best
    single reading's, scaled by how unanimous the vote was at its least certain position and
    by the share of the weight that agreed on the length."""
    readings = [(t, c) for t, c in readings if t and c > 0]
    if not readings:
        return None, 0.0
    by_length = defaultdict(list)
    for text, conf in readings:
        by_length[len(text)].append((text, conf))
    total = sum(c for _, c in readings)
    length, group = max(by_length.items(), key=lambda item: sum(c for _, c in item[1]))
    weight = sum(c for _, c in group)
    chars, agreement = [], 1.0
    for i in range(length):
        tally = defaultdict(float)
        for text, conf in group:
            tally[text[i]] += conf
        char, w = max(tally.items(), key=lambda item: item[1])
        chars.append(char)
        agreement = min(agreement, w / weight)
    return "".join(chars), max(c for _, c in group) * agreement * (weight / total)
