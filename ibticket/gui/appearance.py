"""Settings and themes: the settings dialog, colours for every view, light / dark / the system's theme.
A mixin of ``WindowController`` (its state is the controller's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QGuiApplication

from .dialogs.settings import SettingsChoice, SettingsDialog
from .theme import Colors, apply_theme, the_app

if TYPE_CHECKING:
    from .appsettings import AppSettings
    from .docks.chart import ChartFeed
    from .fill_alert import FillAlert
    from .mainwindow import MainWindow


class Appearance:
    window: MainWindow
    settings: AppSettings
    chart: ChartFeed
    fill_alert: FillAlert
    colors: Colors

    def _settings_dialog(self) -> None:
        s = self.settings
        dialog = SettingsDialog(s.precautions(), s.default_quantity(), s.default_quantities(), s.theme(), self.window,
                                lot=s.default_lot(), lots=s.lots(), fill_alert=s.fill_alert())
        dialog.applied.connect(self._apply_settings)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def _apply_settings(self, choice: SettingsChoice) -> None:
        s = self.settings
        s.set_precautions(choice.precautions)
        s.set_default_quantity(choice.quantity)
        s.set_default_quantities(choice.defaults)
        s.set_default_lot(choice.lot)
        s.set_lots(choice.lots)
        s.set_fill_alert(choice.fill_alert)
        s.sync()
        self.window.ticket.set_default_quantities(choice.defaults)
        self.window.ticket.set_lots(choice.lot, choice.lots)
        self.fill_alert.enabled = choice.fill_alert
        self.set_theme(choice.theme)
        self.window.status.showMessage("Settings saved", 5000)

    def _apply_colors(self) -> None:
        w = self.window
        for target in (w.ticket, w.order_line, w.orders_model, w.fills_model, w.positions_model, w.logview,
                       self.chart):
            target.set_colors(self.colors)

    def _wire_theme(self) -> None:
        w = self.window
        for name, action in w.theme_actions.items():
            action.triggered.connect(lambda _checked=False, n=name: self.set_theme(n))
        w.theme_actions[self.settings.theme()].setChecked(True)
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):  # Qt 6.5+: "follow the system" follows it while running
            # A method of this QObject, not a lambda: Qt drops the connection when the window goes, so the
            # application-wide signal can never call into a deleted controller.
            hints.colorSchemeChanged.connect(self._system_scheme_changed)

    def _system_scheme_changed(self, _scheme: object) -> None:
        if self.settings.theme() == "system":
            self.set_theme("system", save=False)  # nothing was chosen: a stored value stays as it is

    def set_theme(self, name: str, save: bool = True) -> None:
        """Light, dark or the system's: tables, ticket and chart alike; remembered in the settings."""
        if save:
            self.settings.set_theme(name)
            self.settings.sync()
        self.window.theme_actions[self.settings.theme()].setChecked(True)
        self.colors = apply_theme(the_app(), name)
        self._apply_colors()

