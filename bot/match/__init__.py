"""Turn what a person typed or pasted into ranked topics, with its language and provider.

text.py      normalizing, reply codes, typed placeholders for hosts, addresses, dates,
             garbled text
stems.py     word stems in en, ru and it
detect.py    language and provider detection; the word lists of knowledge/language.yaml
features.py  what the model sees: codes, provider, stems, bigrams, character n-grams,
             concepts
model.py     multinomial logistic regression over sparse features, in numpy
training.py  examples from the knowledge base, training, the model cache
matcher.py   the three-way decision: answer, "did you mean", or "I don't know"
"""

from bot.match.detect import Words
from bot.match.matcher import Match, Matcher, Result, matcher_for
from bot.match.text import ADDRESS, extract_codes, normalize

__all__ = [
    "ADDRESS", "Match", "Matcher", "Result", "Words", "extract_codes", "matcher_for",
    "normalize",
]
