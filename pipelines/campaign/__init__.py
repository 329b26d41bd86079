"""A monitoring season as one reproducible run: a campaign file (TOML) names the site, the period,
the scenes, the plot surveys, the methodology and its overrides; :func:`run_campaign` turns them
into land cover, carbon density, stocks, removals with their uncertainty deduction, and the
per-parcel attribution a registry report needs, in a run folder an evidence package is built from.
"""
