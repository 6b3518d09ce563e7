"""Anonymised analytics (issue 15): the numbers (:mod:`bot.analytics.figures`, shared with the
console), the report (:mod:`bot.analytics.report`), retention and the roll-up
(:mod:`bot.analytics.retention`). The tables' one owner is :mod:`bot.analytics.store`."""
