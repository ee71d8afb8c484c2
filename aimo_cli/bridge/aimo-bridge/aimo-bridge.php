<?php
/**
 * Plugin Name:       aimo bridge
 * Plugin URI:        https://github.com/aimo-cli/aimo
 * Description:       Companion of the aimo command line: serves the AI providers aimo manages to the WordPress AI Client ("X via aimo"), applies model preferences and sampling rules, and reports connector state to aimo over REST (aimo/v1).
 * Version:           0.1.0
 * Requires at least: 7.0
 * Requires PHP:      8.1
 * Author:            aimo developers
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       aimo-bridge
 *
 * @package AimoBridge
 */

defined( 'ABSPATH' ) || exit;

define( 'AIMO_BRIDGE_VERSION', '0.1.0' );
define( 'AIMO_BRIDGE_FILE', __FILE__ );
define( 'AIMO_BRIDGE_DIR', __DIR__ );

require_once __DIR__ . '/includes/common.php';
require_once __DIR__ . '/includes/cache.php';
require_once __DIR__ . '/includes/managers.php';
require_once __DIR__ . '/includes/coexist.php';
require_once __DIR__ . '/includes/changelog.php';
require_once __DIR__ . '/includes/managed.php';
require_once __DIR__ . '/includes/status.php';
require_once __DIR__ . '/includes/rest.php';
require_once __DIR__ . '/includes/admin.php';
require_once __DIR__ . '/includes/banner.php';

register_activation_hook( __FILE__, 'aimo_bridge_activate' );
register_deactivation_hook( __FILE__, 'aimo_bridge_deactivate' );

/**
 * Activation: start in observe mode (no registry changes) unless a mode was chosen before.
 */
function aimo_bridge_activate(): void {
	add_option( AIMO_BRIDGE_OPT_MODE, 'observe', '', true );
}

/**
 * Deactivation: stop the background model warm-up. Options stay (uninstall.php removes them).
 */
function aimo_bridge_deactivate(): void {
	wp_clear_scheduled_hook( AIMO_BRIDGE_CRON_WARM );
	wp_clear_scheduled_hook( AIMO_BRIDGE_CRON_REFRESH );
}

aimo_bridge_boot();
