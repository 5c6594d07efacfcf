/** Page encryption: the page key (HKDF-SHA256) and AES-256-GCM per page, nonce from (page, version). */
package dev.valet.common.crypto;
