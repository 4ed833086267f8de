{#- The integers 0 to 9999 as column `n`, without engine-specific generators (each day of up to
    27 years of history is one row). -#}
{% macro integers() %}
    select ones.n + 10 * tens.n + 100 * hundreds.n + 1000 * thousands.n as n
    from (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as ones (n)
    cross join (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as tens (n)
    cross join (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as hundreds (n)
    cross join (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as thousands (n)
{% endmacro %}
