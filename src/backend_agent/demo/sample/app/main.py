"""The users API."""

from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy.orm import Session

from app.auth import current_user
from app.db import User, get_db

app = FastAPI(title="users-service")


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/users/{user_id}")
def get_user(
    user_id: int, db: Session = Depends(get_db), me: dict[str, int] = Depends(current_user)
) -> dict[str, object]:
    user = db.get(User, user_id)
    if user is None:
        raise HTTPException(status_code=404, detail="no such user")
    return {"id": user.id, "email": user.email}
