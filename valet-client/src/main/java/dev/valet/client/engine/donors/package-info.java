/** The engine's donors: who is alive, what each reports, and death and re-admission (heartbeats, STATS). */
package dev.valet.client.engine.donors;
