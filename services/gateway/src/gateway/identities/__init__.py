"""Who may sign in, administered by the boards themselves: users and HIS clients in the gateway's database
(the principals file seeds it), sign-in with the lockout, and the administrators' API within their own scope."""
