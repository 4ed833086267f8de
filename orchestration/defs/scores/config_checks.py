"""Validity of the scoring configuration as loaded into the warehouse (schema `scorecard`)."""

import duckdb

from orchestration.defs.scores.outcome import Outcome, violations


def _empty(con: duckdb.DuckDBPyConnection, table: str, seed: str) -> Outcome | None:
    """A configuration table without rows passes its checks vacuously but scores nothing: that is a failure."""
    if con.execute(f"select count(*) from scorecard.{table}").fetchone()[0]:
        return None
    return Outcome(False, f"seeds/{seed}.csv has no rows: nothing can be scored", {"table": f"scorecard.{table}"})


def weights_are_valid(con: duckdb.DuckDBPyConnection) -> Outcome:
    """Weights non-negative, summing to 1 per scorecard (components) and per scorecard and component (measures)."""
    if empty := _empty(con, "scorecard_components", "scorecard_components"):
        return empty
    query = """
        select scorecard, 'component ' || component as item, 'negative weight' as problem, weight as value
        from scorecard.scorecard_components where weight < 0
        union all
        select scorecard, 'measure ' || measure, 'negative weight', weight
        from scorecard.scorecard_measure_weights where weight < 0
        union all
        select scorecard, 'components', 'weights sum to ' || sum(weight), sum(weight)
        from scorecard.scorecard_components group by scorecard having sum(weight) <> 1
        union all
        select weights.scorecard, 'measures of ' || measures.component, 'weights sum to ' || sum(weights.weight),
               sum(weights.weight)
        from scorecard.scorecard_measure_weights as weights
        join scorecard.measures as measures using (measure)
        group by weights.scorecard, measures.component having sum(weights.weight) <> 1
    """
    return violations(
        con, query, ["scorecard", "item", "problem", "value"], "weight problems", "weights >= 0, summing to 1 per level"
    )


def measures_map_to_components(con: duckdb.DuckDBPyConnection) -> Outcome:
    """Every measure belongs to a component that each scorecard weighs, and every weighted measure exists."""
    if empty := _empty(con, "measures", "measures"):
        return empty
    query = """
        select scorecards.scorecard, measures.measure, 'component ' || measures.component || ' not in scorecard'
        from scorecard.measures as measures
        cross join scorecard.scorecards as scorecards
        left join scorecard.scorecard_components as components
            on components.scorecard = scorecards.scorecard and components.component = measures.component
        where components.component is null
        union all
        select weights.scorecard, weights.measure, 'weighted measure is not defined'
        from scorecard.scorecard_measure_weights as weights
        left join scorecard.measures as measures using (measure)
        where measures.measure is null
    """
    return violations(
        con,
        query,
        ["scorecard", "measure", "problem"],
        "measures without a component",
        "each measure maps to a component of every scorecard",
    )


def thresholds_are_monotonic(con: duckdb.DuckDBPyConnection) -> Outcome:
    """Linear ramps run in their direction; value bands are contiguous and their points never improve as the
    value gets worse."""
    query = """
        with ordered as (
            select bands.*, measures.direction,
                   lag(upper_bound) over (partition by measure order by lower_bound nulls first) as previous_upper,
                   lag(points) over (partition by measure order by lower_bound nulls first) as previous_points,
                   row_number() over (partition by measure order by lower_bound nulls first) as position
            from scorecard.measure_bands as bands join scorecard.measures as measures using (measure)
        )
        select measure, 'ramp runs against its direction' as problem,
               floor_value || ' -> ' || target_value as detail
        from scorecard.measures
        where normalisation = 'linear' and (
            floor_value is null or target_value is null
            or (direction = 'higher_is_better' and target_value <= floor_value)
            or (direction = 'lower_is_better' and target_value >= floor_value))
        union all
        select measure, 'gap or overlap between ranges', previous_upper || ' / ' || lower_bound
        from ordered where position > 1 and (previous_upper is null or lower_bound <> previous_upper)
        union all
        select measure, 'points improve as the value gets worse', previous_points || ' -> ' || points
        from ordered
        where position > 1 and ((direction = 'higher_is_better' and points < previous_points)
                             or (direction = 'lower_is_better' and points > previous_points))
    """
    return violations(
        con, query, ["measure", "problem", "detail"], "non-monotonic thresholds", "ramps and bands ordered by direction"
    )


def bands_cover_0_to_100(con: duckdb.DuckDBPyConnection) -> Outcome:
    if empty := _empty(con, "health_bands", "health_bands"):
        return empty
    query = """
        with ordered as (
            select band, min_score, max_score,
                   lag(max_score) over (order by min_score) as previous_max,
                   row_number() over (order by min_score) as from_bottom,
                   row_number() over (order by min_score desc) as from_top
            from scorecard.health_bands
        )
        select band, 'does not start at 0' as problem, min_score as value from ordered
        where from_bottom = 1 and min_score <> 0
        union all
        select band, 'does not end at 100', max_score from ordered where from_top = 1 and max_score <> 100
        union all
        select band, 'gap or overlap with the band below', min_score from ordered
        where previous_max is not null and min_score <> previous_max
        union all
        select band, 'empty or inverted', max_score from ordered where max_score <= min_score
    """
    return violations(
        con, query, ["band", "problem", "value"], "band coverage problems", "bands cover 0-100 without gap or overlap"
    )
