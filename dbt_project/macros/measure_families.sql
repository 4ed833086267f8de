{#- The measures each model of models/intermediate/measures computes, by that model's family. This is the
    one place that says which measures exist in code; seeds/measures.csv configures them (window,
    normalisation, component, weights), and a test fails when the seed names one that is not here. -#}
{% macro measure_families() %}
    {{ return({
        'usage': ['active_user_ratio', 'active_days', 'events_per_seat', 'active_users_trend', 'feature_breadth'],
        'support': ['tickets_per_seat', 'urgent_ticket_share', 'median_resolution_hours', 'ticket_csat'],
        'payment': ['on_time_payment_share', 'max_days_overdue', 'outstanding_amount_ratio'],
        'feedback': ['nps', 'latest_nps_score', 'detractor_share', 'survey_csat', 'csm_sentiment', 'comment_sentiment'],
        'milestone': ['milestones_achieved_share', 'milestone_delay_days', 'days_to_first_value'],
    }) }}
{% endmacro %}

{#- The measures of one family as a SQL list literal, for `measure in (...)`. -#}
{% macro family_measure_list(family) %}
    ({% for m in measure_families()[family] %}'{{ m }}'{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}
