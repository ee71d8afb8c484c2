<?php
/**
 * Plugin Name: aimo tests: official provider plugin and competing managers (TEST ONLY)
 * Description: Dormant unless a test sets its options. `aimo_test_official_openai` (a base URL): an "official"
 *              openai provider registered at init:5, like AI Provider for OpenAI. `aimo_test_ai_engine`: mimics AI
 *              Engine being active (MWAI_VERSION; its mode lives in mwai_wpai_connectors_mode). `aimo_test_puffer_connector`:
 *              re-registers the xai connector as "xAI via AI Puffer" at wp_connectors_init:1000, like AI Puffer.
 */

defined( 'ABSPATH' ) || exit;

if ( get_option( 'aimo_test_ai_engine' ) && ! defined( 'MWAI_VERSION' ) ) {
	define( 'MWAI_VERSION', '0.0.0-aimo-test' );
}

add_action(
	'wp_connectors_init',
	static function ( $registry ) {
		if ( ! get_option( 'aimo_test_puffer_connector' ) ) {
			return;
		}
		$existing = $registry->is_registered( 'xai' ) ? $registry->unregister( 'xai' ) : array();
		$registry->register(
			'xai',
			array(
				'name'           => 'xAI via AI Puffer',
				'description'    => 'Grok models, routed by AI Puffer (test mimic).',
				'type'           => 'ai_provider',
				'authentication' => $existing['authentication'] ?? array( 'method' => 'none' ),
			)
		);
	},
	1000
);

add_action(
	'init',
	static function () {
		$base = get_option( 'aimo_test_official_openai' );
		if ( ! $base || ! class_exists( 'WordPress\\AiClient\\AiClient' ) ) {
			return;
		}
		require_once __DIR__ . '/aimo-test-official-openai.inc';
		WordPress\AiClient\AiClient::defaultRegistry()->registerProvider( 'Aimo_Test_Official_OpenAI_Provider' );
	},
	5
);
