-- One row per day from a year before the history starts (net revenue retention looks a year back) to the
-- as-of day: the calendar MetricFlow joins metrics to (the semantic layer requires one).
with bounds as (
    select
        cast({{ dbt.dateadd('year', -1, history_start_date()) }} as date) as first_date,
        {{ score_as_of_date() }} as last_date
)

select cast({{ dbt.dateadd('day', 'integers.n', 'bounds.first_date') }} as date) as date_day
from ({{ integers() }}) as integers
cross join bounds
where integers.n <= {{ dbt.datediff('bounds.first_date', 'bounds.last_date', 'day') }}
