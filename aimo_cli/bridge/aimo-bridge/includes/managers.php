<?php
/**
 * Other plugins that manage connectors: detection, conflicts, take-over.
 *
 * Never fight another manager silently: report it; take over only when the admin asks, by demoting it to
 * observe through its own mode option (its keys are untouched) and replacing its connectors with ours.
 *
 * @package AimoBridge
 */

defined( 'ABSPATH' ) || exit;

/** Known connector managers: name, slug, mode option, main plugin file. */
function aimo_bridge_known_managers(): array {
	$known = array(
		array(
			'name'   => 'AI Engine',
			'slug'   => 'ai-engine',
			'option' => 'mwai_wpai_connectors_mode',
			'file'   => 'ai-engine/ai-engine.php',
		),
		array(
			'name'   => 'AI Puffer',
			'slug'   => 'gpt3-ai-content-generator',
			'option' => 'aipkit_wp_ai_client_gateway_mode',
			'file'   => 'gpt3-ai-content-generator/gpt3-ai-content-generator.php',
		),
	);
	/**
	 * Filters the connector managers the bridge knows by their mode option.
	 *
	 * @param array[] $known Each: name, slug, option (observe|managed|off), file (plugin basename).
	 */
	return array_values( array_filter( (array) apply_filters( 'aimo_known_managers', $known ), 'is_array' ) );
}

/** The manager a connector name points at ("Groq via AI Puffer" → "AI Puffer"), or null (ours or none). */
function aimo_bridge_connector_manager( string $name ): ?string {
	if ( ! preg_match( '/\svia\s+(.+)$/u', $name, $m ) ) {
		return null;
	}
	$manager = trim( $m[1] );
	return 0 === strcasecmp( $manager, 'aimo' ) ? null : $manager;
}

/** The known manager a plugin file (basename) belongs to, or null. */
function aimo_bridge_manager_for_plugin( string $file ): ?array {
	foreach ( aimo_bridge_known_managers() as $known ) {
		if ( '' !== $file && str_starts_with( $file, (string) $known['slug'] . '/' ) ) {
			return $known;
		}
	}
	return null;
}

/** Whether a known manager is an active plugin whose own mode is managed (the only kind that manages). */
function aimo_bridge_known_manager_managing( array $known ): bool {
	if ( ! function_exists( 'is_plugin_active' ) ) {
		require_once ABSPATH . 'wp-admin/includes/plugin.php';
	}
	return ! empty( $known['file'] ) && is_plugin_active( $known['file'] ) && 'managed' === get_option( (string) $known['option'], 'observe' );
}

/**
 * Managers seen on this site: known plugins that are installed (active or not), and any "… via X" connector.
 * A manager manages only when it is an active plugin whose own mode is managed; an inactive one is reported as
 * installed, inactive, and never counts.
 *
 * @return array[] Each: name, slug, file, version, mode, active, managing, state, source ("plugin"|"connector"),
 *                 connectors (ids it registered), serves (ids its AI Client classes serve).
 */
function aimo_bridge_detect_managers(): array {
	if ( ! function_exists( 'get_plugins' ) ) {
		require_once ABSPATH . 'wp-admin/includes/plugin.php';
	}
	$found = array();
	foreach ( aimo_bridge_known_managers() as $known ) {
		$file      = (string) ( $known['file'] ?? '' );
		$active    = '' !== $file && is_plugin_active( $file );
		$installed = $active || ( '' !== $file && 0 === validate_plugin( $file ) );
		if ( ! $installed ) {
			continue;
		}
		$mode                                  = get_option( (string) $known['option'], false );
		$mode                                  = is_string( $mode ) && '' !== $mode ? $mode : 'observe';
		$headers                               = get_plugins( '/' . dirname( $file ) )[ basename( $file ) ] ?? array();
		$found[ strtolower( $known['name'] ) ] = array(
			'name'       => $known['name'],
			'slug'       => $known['slug'],
			'file'       => $file,
			'version'    => (string) ( $headers['Version'] ?? '' ),
			'mode'       => $mode,
			'active'     => $active,
			'managing'   => $active && 'managed' === $mode,
			'state'      => $active ? $mode : 'installed, inactive',
			'source'     => 'plugin',
			'connectors' => array(),
			'serves'     => array(),
		);
	}
	foreach ( wp_get_connectors() as $id => $connector ) {
		$registrant = function_exists( 'aimo_bridge_registrant' ) ? aimo_bridge_registrant( (string) $id ) : null;
		$known      = $registrant ? aimo_bridge_manager_for_plugin( (string) $registrant['file'] ) : null;
		$manager    = $known ? $known['name'] : aimo_bridge_connector_manager( (string) ( $connector['name'] ?? '' ) );
		if ( null === $manager ) {
			continue;
		}
		$key = strtolower( $manager );
		if ( ! isset( $found[ $key ] ) ) {
			$found[ $key ] = array(
				'name'       => $manager,
				'slug'       => sanitize_title( $manager ),
				'file'       => '',
				'version'    => '',
				'mode'       => 'managed',
				'active'     => true,
				'managing'   => true,
				'state'      => 'managed',
				'source'     => 'connector',
				'connectors' => array(),
				'serves'     => array(),
			);
		}
		$found[ $key ]['connectors'][] = $id;
	}
	if ( function_exists( 'aimo_bridge_serving' ) ) {
		foreach ( array_keys( aimo_bridge_providers() ) as $id ) {
			$serving = aimo_bridge_serving( $id );
			$known   = $serving ? aimo_bridge_manager_for_plugin( (string) $serving['plugin'] ) : null;
			if ( $known && isset( $found[ strtolower( $known['name'] ) ] ) ) {
				$found[ strtolower( $known['name'] ) ]['serves'][] = $id;
			}
		}
	}
	return array_values( $found );
}

/** Whether a detected manager is managing connectors right now (an active plugin in its own managed mode). */
function aimo_bridge_manager_is_managing( array $manager ): bool {
	return ! empty( $manager['managing'] );
}

/** The first other manager managing right now (not taken over by aimo), or null. */
function aimo_bridge_competitor(): ?array {
	foreach ( aimo_bridge_detect_managers() as $manager ) {
		if ( aimo_bridge_manager_is_managing( $manager ) ) {
			return $manager;
		}
	}
	return null;
}

/**
 * Demote competitors to observe (through their own mode options) and remember whose connectors to replace.
 *
 * @return array{demoted: string[], replaced: string[]}
 */
function aimo_bridge_take_over( array $managers ): array {
	$demoted  = array();
	$replaced = array();
	/**
	 * Filters whether taking over demotes other managers to observe mode (their keys are never touched).
	 *
	 * @param bool $demote
	 */
	$demote = (bool) apply_filters( 'aimo_demote_competitors', true );
	$known  = array();
	foreach ( aimo_bridge_known_managers() as $k ) {
		$known[ strtolower( $k['name'] ) ] = $k;
	}
	foreach ( $managers as $manager ) {
		if ( ! aimo_bridge_manager_is_managing( $manager ) ) {
			continue;
		}
		$k = $known[ strtolower( $manager['name'] ) ] ?? null;
		if ( $demote && $k && ! empty( $k['option'] ) && 'managed' === get_option( $k['option'] ) ) {
			update_option( $k['option'], 'observe' );
			$demoted[] = $manager['name'];
		}
		$replaced = array_merge( $replaced, $manager['connectors'] );
	}
	$replaced = array_values( array_unique( array_intersect( $replaced, array_keys( aimo_bridge_providers() ) ) ) );
	update_option( AIMO_BRIDGE_OPT_TAKEN_OVER, $replaced, false );
	return array(
		'demoted'  => $demoted,
		'replaced' => $replaced,
	);
}

/** Provider ids taken over from another manager: ours even if something registered them first. */
function aimo_bridge_taken_over_ids(): array {
	$ids = get_option( AIMO_BRIDGE_OPT_TAKEN_OVER, array() );
	return is_array( $ids ) ? $ids : array();
}
