"""briefgen: structured assessments in YAML become validated HTML and PDF policy briefs."""

__version__ = "0.1.0"
