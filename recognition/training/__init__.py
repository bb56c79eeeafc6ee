"""Training the plate recogniser and fitting its confidence (see ``__main__``)."""
