"""Every suite here grades through the course plugin (--submission, points, results)."""

pytest_plugins = ["day25.course.pytest_plugin"]
