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

/** Known connector managers: name, slug, mode option, constant that tells the plugin is active. */
function aimo_bridge_known_managers(): array {
	$known = array(
		array(
			'name'     => 'AI Engine',
			'slug'     => 'ai-engine',
			'option'   => 'mwai_wpai_connectors_mode',
			'constant' => 'MWAI_VERSION',
		),
		array(
			'name'     => 'AI Puffer',
			'slug'     => 'gpt3-ai-content-generator',
			'option'   => 'aipkit_wp_ai_client_gateway_mode',
			'constant' => 'WPAICG_VERSION',
		),
	);
	/**
	 * Filters the connector managers the bridge knows by their mode option.
	 *
	 * @param array[] $known Each: name, slug, option (observe|managed|off), constant (defined when active).
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

/**
 * Managers seen on this site: known plugins (active, or with a mode option) and any "… via X" connector.
 *
 * @return array[] Each: name, slug, mode, active, source ("plugin"|"connector"), connectors (ids).
 */
function aimo_bridge_detect_managers(): array {
	$found = array();
	foreach ( aimo_bridge_known_managers() as $known ) {
		$mode   = empty( $known['option'] ) ? false : get_option( $known['option'], false );
		$active = ! empty( $known['constant'] ) && defined( $known['constant'] );
		if ( ! $active && false === $mode ) {
			continue;
		}
		$found[ strtolower( $known['name'] ) ] = array(
			'name'       => $known['name'],
			'slug'       => $known['slug'] ?? sanitize_title( $known['name'] ),
			'mode'       => is_string( $mode ) && '' !== $mode ? $mode : 'observe',
			'active'     => $active,
			'source'     => 'plugin',
			'connectors' => array(),
		);
	}
	foreach ( wp_get_connectors() as $id => $connector ) {
		$manager = aimo_bridge_connector_manager( (string) ( $connector['name'] ?? '' ) );
		if ( null === $manager ) {
			continue;
		}
		$key = strtolower( $manager );
		if ( ! isset( $found[ $key ] ) ) {
			$found[ $key ] = array(
				'name'       => $manager,
				'slug'       => sanitize_title( $manager ),
				'mode'       => 'managed',
				'active'     => true,
				'source'     => 'connector',
				'connectors' => array(),
			);
		}
		$found[ $key ]['connectors'][] = $id;
	}
	return array_values( $found );
}

/** Whether a detected manager is managing connectors right now. */
function aimo_bridge_manager_is_managing( array $manager ): bool {
	return ( $manager['active'] && 'managed' === $manager['mode'] ) || ! empty( $manager['connectors'] );
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
