"""Pages every visitor can read."""

from markupsafe import escape

from evaluator import METRICS


def test_every_metric_is_defined_on_the_scoring_page(platform):
    html = platform.app.test_client().get("/scoring").get_data(as_text=True)
    for metric in METRICS.values():
        assert metric.definition, metric.name
        assert str(escape(metric.definition)) in html
