"""Sign-in: the token endpoint (OAuth2 password, client credentials, refresh), revocation and sessions,
the built-in issuer and external OpenID Connect providers."""
