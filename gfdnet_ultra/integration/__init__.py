"""The only package that imports Ultralytics' parser, engine or cfg, or patches anything."""
