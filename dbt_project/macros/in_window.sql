{#- Join condition: a row of `relation` belongs to the account-day `days` if it is the same account and
    its `date_column` lies in the window of `window_days` days ending on the scored day. This is the one
    place the point-in-time rule lives: nothing dated after the scored day ever counts. -#}
{% macro in_window(relation, date_column, window_days='windows.window_days') %}
    {{ relation }}.account_id = days.account_id
        and {{ relation }}.{{ date_column }} <= days.score_date
        and {{ relation }}.{{ date_column }} >= {{ window_start('days.score_date', window_days) }}
{%- endmacro %}
