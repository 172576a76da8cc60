"""The facts knowledge base (cities, countries, elements), documents generated from it, and a
checker for atomic facts."""

from atelier.data.facts.check import check_fact, parse_number
from atelier.data.facts.documents import facts_documents
from atelier.data.facts.kb import facts_kb, facts_table

__all__ = ["check_fact", "facts_documents", "facts_kb", "facts_table", "parse_number"]
