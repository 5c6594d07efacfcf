/** How much memory the donor's host has free, and which way it is heading (EWMA and gradient of MemAvailable). */
package dev.valet.donor.memory;
