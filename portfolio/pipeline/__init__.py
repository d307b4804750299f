"""The release pipeline: the local runner (`build.py pipeline run --local`), the buildspec 0.2
runner it uses, and the deploy stage (`build.py deploy --env ENV`)."""
