<?php
/**
 * Plugin Name: aimo tests: one-time browser login (TEST ONLY)
 * Description: Lets headless Chromium log in as the admin: a request with ?aimo_test_login=TOKEN, where TOKEN matches
 *              the one-time option aimo_test_login_token a test just set, gets a real auth cookie and a redirect to
 *              the same URL without the token. Installed by tests/bridgefix.py for the session only.
 */

defined( 'ABSPATH' ) || exit;

add_action(
	'init',
	static function () {
		if ( empty( $_GET['aimo_test_login'] ) ) { // phpcs:ignore WordPress.Security.NonceVerification
			return;
		}
		$token = get_option( 'aimo_test_login_token' );
		delete_option( 'aimo_test_login_token' ); // one use only, right or wrong
		if ( ! is_string( $token ) || strlen( $token ) < 32 || ! hash_equals( $token, (string) $_GET['aimo_test_login'] ) ) { // phpcs:ignore
			return;
		}
		$admin = get_user_by( 'login', 'admin' );
		if ( $admin ) {
			wp_set_auth_cookie( $admin->ID );
			wp_safe_redirect( remove_query_arg( 'aimo_test_login' ) );
			exit;
		}
	},
	0
);
