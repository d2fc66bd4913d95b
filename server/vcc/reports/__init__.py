"""Reports: folds over the consultation's events, rendered for people."""
