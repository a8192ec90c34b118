package io.github.djllightning.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class PythonFormatTest {

    @ParameterizedTest
    @CsvSource({
        "0.1, 0.1",
        "1.0, 1.0",
        "3.0, 3.0",
        "100.0, 100.0",
        "1e-05, 1e-05",
        "0.0001, 0.0001",
        "0.00012345, 0.00012345",
        "1.5e-07, 1.5e-07",
        "1e16, 1e+16",
        "1.2345e16, 1.2345e+16",
        "1e15, 1000000000000000.0",
        "123456789.125, 123456789.125",
        "0.010000000000000002, 0.010000000000000002",
        "1.8078, 1.8078",
        "-2.5, -2.5",
        "-1e-10, -1e-10",
        "1e300, 1e+300",
        "2.2250738585072014e-308, 2.2250738585072014e-308",
        "0.3, 0.3",
        "0.30000000000000004, 0.30000000000000004",
    })
    void reprMatchesPython(double value, String expected) {
        assertThat(PythonFormat.repr(value)).isEqualTo(expected);
    }

    @Test
    void reprOfSpecialValues() {
        assertThat(PythonFormat.repr(Double.NaN)).isEqualTo("nan");
        assertThat(PythonFormat.repr(Double.POSITIVE_INFINITY)).isEqualTo("inf");
        assertThat(PythonFormat.repr(Double.NEGATIVE_INFINITY)).isEqualTo("-inf");
        assertThat(PythonFormat.repr(0.0)).isEqualTo("0.0");
        assertThat(PythonFormat.repr(-0.0)).isEqualTo("-0.0");
        assertThat(PythonFormat.repr(Double.MIN_VALUE)).isEqualTo("5e-324");
        assertThat(PythonFormat.repr(Double.MAX_VALUE)).isEqualTo("1.7976931348623157e+308");
    }

    @Test
    void reprRoundTrips() {
        java.util.Random random = new java.util.Random(7);
        for (int i = 0; i < 2000; i++) {
            double value = Double.longBitsToDouble(random.nextLong());
            if (Double.isFinite(value)) {
                assertThat(Double.parseDouble(PythonFormat.repr(value))).isEqualTo(value);
            }
            float single = random.nextFloat() * 10;
            assertThat(Double.parseDouble(PythonFormat.repr(single))).isEqualTo((double) single);
        }
    }

    @ParameterizedTest
    @CsvSource({
        "0.123456, 0.123",
        "1234.5, 1.23e+03",
        "999.6, 1e+03",
        "100, 100",
        "0.5, 0.5",
        "0.00012345, 0.000123",
        "0.000012345, 1.23e-05",
        "12345678.9, 1.23e+07",
        "-0.5, -0.5",
        "2.0, 2",
    })
    void generalMatchesPythonG(double value, String expected) {
        assertThat(PythonFormat.general(value, 3)).isEqualTo(expected);
    }

    @Test
    void generalRejectsBadPrecision() {
        assertThatThrownBy(() -> PythonFormat.general(1, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void integralColumns() {
        assertThat(PythonFormat.integral(0)).isEqualTo("0");
        assertThat(PythonFormat.integral(49)).isEqualTo("49");
        assertThat(PythonFormat.integral(2.5)).isEqualTo("2.5");
        assertThat(PythonFormat.integral(Double.NaN)).isEqualTo("nan");
    }

    @ParameterizedTest
    @CsvSource({
        "5, 03d, 005",
        "5, d, 5",
        "5, '', 5",
        "0.123456, .2f, 0.12",
        "0.123456, .3e, 1.235e-01",
        "0.123456, .3g, 0.123",
        "0.5, '', 0.5",
        "-2.5, 06.1f, -002.5",
    })
    void formatSpecsOfCheckpointNames(String value, String spec, String expected) {
        Number number = value.contains(".") ? (Number) Double.parseDouble(value) : (Number) Long.parseLong(value);
        assertThat(PythonFormat.format(number, spec)).isEqualTo(expected);
    }

    @Test
    void formatRejectsUnknownSpecs() {
        assertThatThrownBy(() -> PythonFormat.format(1.0, "x>10")).isInstanceOf(IllegalArgumentException.class);
    }
}
