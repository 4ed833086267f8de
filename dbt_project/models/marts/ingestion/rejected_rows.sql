-- Every landed row the loader set aside, one row per reason, for the people who fix the exports: file,
-- line, column, value (personal data withheld) and why.
select * from {{ ref('stg_ingestion__rejected_rows') }}
