"""The tenant's wall clock (its time zone, daylight saving included). In the simulator this is
the scenario's time, moved on by every prompt and wait."""

from dataclasses import dataclass

from wit_world.imports import clock as _clock
from wit_world.imports import types as _types

_WEEKDAYS = {
    _types.Weekday.MONDAY: "monday",
    _types.Weekday.TUESDAY: "tuesday",
    _types.Weekday.WEDNESDAY: "wednesday",
    _types.Weekday.THURSDAY: "thursday",
    _types.Weekday.FRIDAY: "friday",
    _types.Weekday.SATURDAY: "saturday",
    _types.Weekday.SUNDAY: "sunday",
}


@dataclass(frozen=True)
class LocalTime:
    """A moment on the tenant's clock. `weekday` is `"monday"` ... `"sunday"`."""

    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    weekday: str
    utc_offset_seconds: int
    unix_millis: int
    time_zone: str

    @classmethod
    def from_wit(cls, t: "_types.LocalTime") -> "LocalTime":
        return cls(
            t.year, t.month, t.day, t.hour, t.minute, t.second, _WEEKDAYS[t.weekday],
            t.utc_offset_seconds, t.unix_millis, t.time_zone,
        )

    @property
    def minute_of_day(self) -> int:
        """Minutes since local midnight (09:30 is 570), for opening-hours arithmetic."""
        return self.hour * 60 + self.minute

    @property
    def date(self) -> str:
        """`YYYY-MM-DD`."""
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    @property
    def month_day(self) -> str:
        """`MM-DD`, for holidays on the same date every year."""
        return f"{self.month:02d}-{self.day:02d}"

    @property
    def is_weekend(self) -> bool:
        return self.weekday in ("saturday", "sunday")


def now() -> LocalTime:
    """Now, in the tenant's time zone."""
    return LocalTime.from_wit(_clock.now())


def at(unix_millis: int) -> LocalTime:
    """A Unix instant (milliseconds) in the tenant's time zone."""
    return LocalTime.from_wit(_clock.at(unix_millis))
