"""Data tools: synthetic defect generator, dataset converters, statistics."""
