"""Bilingual (Chinese / English) monitoring report of a campaign run: HTML, PDF and maps."""

from pipelines.report.render import ReportFiles, render_report

__all__ = ["ReportFiles", "render_report"]
