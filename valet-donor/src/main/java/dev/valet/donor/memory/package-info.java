/**
 * How much memory the donor's host has free ({@code MemInfo}: MemAvailable, or the test hook's file), which way it
 * is heading ({@code FreeMemoryTrend}: EWMA and gradient), and what the donor does about it ({@code HeadroomGuard}:
 * offers, pressure, reclaiming unused slabs and asking owners to move victims).
 */
package dev.valet.donor.memory;
