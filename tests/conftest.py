"""Every suite here grades through the course plugin (--submission, points, results)."""

pytest_plugins = ["day25.course.harness.pytest_plugin"]
