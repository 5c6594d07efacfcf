/**
 * Helpers shared by the tests of every module, shipped in valet-common's test-jar (a test-scoped dependency of the
 * other modules): {@link dev.valet.common.testing.Await}, the one "poll until a condition holds or a deadline
 * passes", {@link dev.valet.common.testing.FuzzTries}, the longer fuzz run's number of tries, and
 * {@link dev.valet.common.testing.ThreadAllocation}, the bytes a thread allocates while it runs an action.
 */
package dev.valet.common.testing;
