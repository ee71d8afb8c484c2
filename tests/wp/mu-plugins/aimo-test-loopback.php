<?php
/**
 * Plugin Name: aimo tests: loopback for the fake providers (TEST ONLY)
 * Description: Lets the AI Client (wp_safe_remote_request) reach the loopback fake of the AI providers on any
 *              port of 127.0.0.1. Installed by tests/bridgefix.py for the test session and removed after it;
 *              production sites never need this (the real providers are on 443).
 */

defined( 'ABSPATH' ) || exit;

add_filter(
	'http_request_host_is_external',
	static function ( $external, $host ) {
		return '127.0.0.1' === $host ? true : $external;
	},
	10,
	2
);

add_filter(
	'http_allowed_safe_ports',
	static function ( $ports, $host = '', $url = '' ) {
		if ( '127.0.0.1' === $host && is_string( $url ) ) {
			$port = (int) wp_parse_url( $url, PHP_URL_PORT );
			if ( $port ) {
				$ports[] = $port;
			}
		}
		return $ports;
	},
	10,
	3
);
