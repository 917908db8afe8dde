"""The self-debugging engine: problems, datasets, evaluation, (later) the repair loop."""
