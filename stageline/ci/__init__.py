"""CI previews: which stages a change affects, the preview of each, one summary for reviewers."""
