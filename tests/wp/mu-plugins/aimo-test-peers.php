<?php
/**
 * Plugin Name: aimo tests: the real peer plugins on a loopback site (TEST ONLY)
 * Description: Lets the WordPress AI plugin load (it refuses to without WPAI_IS_TEST), and, while the option
 *              aimo_test_redirect_hosts maps a provider host to a base URL of the loopback fake (e.g.
 *              {"api.openai.com": "http://127.0.0.1:PORT/openai"}), re-issues every request to that host to the fake
 *              with the same path: the official AI Provider for OpenAI always calls https://api.openai.com/v1.
 *              Installed by tests/bridgefix.py for the session only.
 */

defined( 'ABSPATH' ) || exit;

defined( 'WPAI_IS_TEST' ) || define( 'WPAI_IS_TEST', true );

add_filter(
	'pre_http_request',
	static function ( $pre, $args, $url ) {
		$map = get_option( 'aimo_test_redirect_hosts' );
		if ( false !== $pre || ! is_array( $map ) ) {
			return $pre;
		}
		$parts = wp_parse_url( (string) $url );
		$host  = strtolower( (string) ( $parts['host'] ?? '' ) );
		if ( empty( $map[ $host ] ) ) {
			return $pre;
		}
		$target = rtrim( (string) $map[ $host ], '/' ) . ( $parts['path'] ?? '/' ) . ( isset( $parts['query'] ) ? '?' . $parts['query'] : '' );
		return wp_remote_request( $target, $args );
	},
	10,
	3
);
