<?php
/**
 * Settings → Connectors: a connector the bridge serves that has no key says how to set it with aimo instead
 * of offering core's key dialog (keys typed there skip aimo's safety rules and its local source of truth).
 *
 * The page script lives in its own small file (assets/connectors.js); other page additions go elsewhere.
 *
 * @package AimoBridge
 */

defined( 'ABSPATH' ) || exit;

add_filter( 'script_module_data_options-connectors-wp-admin', 'aimo_bridge_connectors_page_data', 20 );
add_action( 'admin_enqueue_scripts', 'aimo_bridge_connectors_page_script' );

/** The commands that set a provider's credential from the terminal. */
function aimo_bridge_setup_commands( string $id ): string {
	return sprintf( 'aimo keys set %s && aimo sync push', $id );
}

function aimo_bridge_connectors_page_data( $data ) {
	if ( ! is_array( $data ) || 'managed' !== aimo_bridge_mode() || empty( $data['connectors'] ) || ! is_array( $data['connectors'] ) ) {
		return $data;
	}
	$setup = array();
	foreach ( aimo_bridge_served_ids() as $id ) {
		if ( ! isset( $data['connectors'][ $id ] ) ) {
			continue;
		}
		$connector = &$data['connectors'][ $id ];
		if ( 'none' === ( $connector['authentication']['keySource'] ?? 'none' ) ) {
			$what                     = 'ollama' === $id ? __( 'server URL', 'aimo-bridge' ) : __( 'key', 'aimo-bridge' );
			$connector['description'] = sprintf(
				/* translators: 1: "key" or "server URL", 2: shell commands. */
				__( 'Not set up. This connector is managed with the aimo CLI: set its %1$s with `%2$s`.', 'aimo-bridge' ),
				$what,
				aimo_bridge_setup_commands( $id )
			);
		}
		$down = aimo_bridge_unreachable( $id ); // includes/cache.php
		if ( null !== $down ) {
			$connector['description'] = sprintf(
				/* translators: 1: date and time (UTC), 2: the error. */
				__( 'Unreachable since %1$s (%2$s). The aimo bridge retries in the background every few minutes; the page does not wait for it.', 'aimo-bridge' ),
				str_replace( array( 'T', 'Z' ), array( ' ', ' UTC' ), $down['since'] ),
				$down['reason']
			);
		}
		$setup[ $id ] = aimo_bridge_setup_commands( $id ); // every connector we serve: "Set up" and "Edit" explain aimo
		unset( $connector );
	}
	$data['aimo'] = array(
		'version' => AIMO_BRIDGE_VERSION,
		'setup'   => (object) $setup,
	);
	return $data;
}

function aimo_bridge_connectors_page_script( $hook_suffix ): void {
	if ( 'options-connectors.php' !== $hook_suffix || 'managed' !== aimo_bridge_mode() ) {
		return;
	}
	wp_enqueue_script( 'aimo-bridge-connectors', plugins_url( 'assets/connectors.js', AIMO_BRIDGE_FILE ), array( 'wp-i18n' ), AIMO_BRIDGE_VERSION, array( 'in_footer' => true ) );
	wp_set_script_translations( 'aimo-bridge-connectors', 'aimo-bridge' );
}
