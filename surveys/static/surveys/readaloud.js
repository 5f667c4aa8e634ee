/* Read-aloud: see the helper. */
